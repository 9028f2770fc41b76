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
	// writev is the function handed to raw.Write, made once: a closure made per write
	// would be allocated per write. n and errno are its results.
	writev func(fd uintptr) bool
	n      uintptr
	errno  syscall.Errno
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
	w := &rawWriter{raw: raw}
	w.writev = func(fd uintptr) bool {
		w.n, _, w.errno = syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&w.iov[0])), uintptr(len(w.iov)))
		return true // never wait: a blocked socket is handed to its own writer
	}
	return w
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
	w.n, w.errno = 0, 0
	err := w.raw.Write(w.writev)
	clear(iov) // drop the references to the frames
	if err != nil {
		return 0, err
	}
	switch w.errno {
	case 0:
		return int(w.n), nil
	case syscall.EAGAIN, syscall.EINTR:
		return 0, nil
	default:
		return 0, w.errno
	}
}
