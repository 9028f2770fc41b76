//go:build unix

package engineio

import (
	"net"
	"syscall"
	"unsafe"
)

// maxIovecs is IOV_MAX on Linux and the BSDs.
const maxIovecs = 1024

// rawWriter writes to a socket without waiting for it: a broadcast's flusher writes many
// connections in turn and must not stall on one whose buffer is full.
type rawWriter struct {
	raw syscall.RawConn
	iov []syscall.Iovec
}

func newRawWriter(c net.Conn) *rawWriter {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &rawWriter{raw: raw}
}

// writeAvailable writes as much of bufs as the socket takes now, with one writev, and
// returns how many bytes went out. A full socket buffer is not an error (0 bytes).
func (w *rawWriter) writeAvailable(bufs [][]byte) (int, error) {
	iov := w.iov[:0]
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		if len(iov) == maxIovecs {
			break
		}
		iov = append(iov, syscall.Iovec{Base: &b[0]})
		iov[len(iov)-1].SetLen(len(b))
	}
	w.iov = iov
	if len(iov) == 0 {
		return 0, nil
	}
	var n uintptr
	var errno syscall.Errno
	err := w.raw.Write(func(fd uintptr) bool {
		n, _, errno = syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		return true // never wait: a blocked socket is handed to its own writer
	})
	clear(iov) // drop the references to the frames
	if err != nil {
		return 0, err
	}
	switch errno {
	case 0:
		return int(n), nil
	case syscall.EAGAIN, syscall.EINTR:
		return 0, nil
	default:
		return 0, errno
	}
}
