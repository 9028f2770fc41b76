package sqlite

import (
	"encoding/binary"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// walVFS is the name of a SQLite VFS that is the default (unix) one except for how the
// write-ahead log is written: SQLite writes each frame of a commit with two pwrite calls
// (its 24-byte header, then the page), one frame per page the transaction changed. On the
// hot path that is ~60 system calls per commit of 7 messages (each message changes a leaf
// of messages_chat_seq and one of messages_client, in different places for different
// chats), about a tenth of the server's CPU at load. This VFS gathers the frames of a
// transaction, which SQLite writes at consecutive offsets, and writes them with one pwrite
// when the commit frame's page arrives: before SQLite publishes the commit in the
// wal-index, which is the first moment anyone (another connection, or recovery after a
// crash) may read them. Only the writer connection opens the database through it.
//
// What is held, and until when (walWrite):
//   - A buffer starts only at a frame header (a 24-byte write) whose previous operation on
//     the file was not a read: SQLite's other 24-byte writes, the checksum rewrites of a
//     transaction that spilled pages (walRewriteChecksums), each follow a read of their
//     frame, so they are always written through.
//   - A write that continues the buffer exactly is appended; any other write, and every
//     other operation on the file (read, sync, truncate, size, lock, file control,
//     close), writes the buffer out first. So the writes reach the file in SQLite's order.
//   - The buffer is written out as soon as it holds the page of a commit frame (a header
//     whose "database size after commit" field is not zero), or when full.
//
// A crash loses at most frames of a transaction that had not committed, which recovery
// ignores anyway. TestWALVFSCommitsReachTheFile checks that every commit is in the files
// (a copy of the files opened fresh, as after kill -9) at the moment it returns, through
// commits, rollbacks, savepoints and transactions larger than the page cache.
const walVFS = "parley-wal"

// walBufferSize bounds what one pwrite carries (a commit larger than this is written in
// pieces): 31 frames of 4 KiB pages. It is the most the unix VFS writes in one call: its
// seekAndWrite masks the length with 0x1ffff.
const walBufferSize = 0x1ffff

// frameHeaderSize is the size of a WAL frame header (SQLite's WAL_FRAME_HDRSIZE).
const frameHeaderSize = 24

// walFile is this VFS's state of an open WAL file, in the bytes SQLite allocates for the
// file after the unix VFS's own (the VFS's szOsFile is the sum). It holds no Go pointers:
// the memory is SQLite's.
type walFile struct {
	orig     uintptr // the unix VFS's io methods, which do the work
	buf      uintptr // walBufferSize bytes from sqlite3_malloc64, or 0 until first needed
	off      int64   // file offset of buf[0]
	n        int32   // bytes held
	commit   int32   // the last header held is a commit frame's: write out after its page
	lastRead int32   // the last operation on the file was a read
}

// walVFSApp is what the VFS's pAppData points to: the unix VFS it delegates to, and the io
// methods it gives WAL files.
type walVFSApp struct {
	unix    uintptr
	stateAt int32 // offset of the walFile in a file's bytes
	methods sqlite3.Tsqlite3_io_methods
}

func init() {
	tls := libc.NewTLS()
	defer tls.Close()
	name := cString(tls, walVFS)
	unix := sqlite3.Xsqlite3_vfs_find(tls, 0)
	if unix == 0 {
		panic("sqlite: no default VFS")
	}
	uv := (*sqlite3.Tsqlite3_vfs)(ptr(unix))

	app := sqlite3.Xsqlite3_malloc64(tls, uint64(unsafe.Sizeof(walVFSApp{})))
	vfs := sqlite3.Xsqlite3_malloc64(tls, uint64(unsafe.Sizeof(sqlite3.Tsqlite3_vfs{})))
	if app == 0 || vfs == 0 {
		panic("sqlite: out of memory registering the WAL VFS")
	}
	a := (*walVFSApp)(ptr(app))
	*a = walVFSApp{unix: unix, stateAt: (uv.FszOsFile + 7) &^ 7}
	m := &a.methods
	m.FiVersion = 1 // WAL files use none of the shared-memory or mmap methods
	*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&m.FxClose)) = walClose
	*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&m.FxRead)) = walRead
	*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&m.FxWrite)) = walWrite
	*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&m.FxTruncate)) = walTruncate
	*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxSync)) = walSync
	*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&m.FxFileSize)) = walFileSize
	*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxLock)) = walLock
	*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxUnlock)) = walUnlock
	*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&m.FxCheckReservedLock)) = walCheckReservedLock
	*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&m.FxFileControl)) = walFileControl
	*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&m.FxSectorSize)) = walSectorSize
	*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&m.FxDeviceCharacteristics)) = walDeviceCharacteristics

	v := (*sqlite3.Tsqlite3_vfs)(ptr(vfs))
	*v = *uv
	v.FpNext = 0
	v.FzName = name // never freed: SQLite keeps the pointer while the VFS is registered
	v.FpAppData = app
	v.FszOsFile = a.stateAt + int32(unsafe.Sizeof(walFile{}))
	*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&v.FxOpen)) = walVFSOpen
	if rc := sqlite3.Xsqlite3_vfs_register(tls, vfs, 0); rc != sqlite3.SQLITE_OK {
		panic("sqlite: registering the WAL VFS failed")
	}
}

// walVFSOpen opens any file through the unix VFS, and gives a WAL file this VFS's methods.
func walVFSOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	a := (*walVFSApp)(ptr((*sqlite3.Tsqlite3_vfs)(ptr(pVfs)).FpAppData))
	uv := (*sqlite3.Tsqlite3_vfs)(ptr(a.unix))
	rc := (*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&uv.FxOpen)))(tls, a.unix, zName, pFile, flags, pOutFlags)
	if rc != sqlite3.SQLITE_OK || flags&sqlite3.SQLITE_OPEN_WAL == 0 {
		return rc
	}
	f := (*sqlite3.Tsqlite3_file)(ptr(pFile))
	if f.FpMethods == 0 {
		return rc
	}
	s := (*walFile)(ptr(pFile + uintptr(a.stateAt)))
	*s = walFile{orig: f.FpMethods}
	f.FpMethods = uintptr(unsafe.Pointer(&a.methods))
	return rc
}

// stateOf finds a WAL file's walFile: the VFS's pAppData is not reachable from the file,
// but its methods table is, and it sits inside walVFSApp.
func stateOf(pFile uintptr) *walFile {
	methods := (*sqlite3.Tsqlite3_file)(ptr(pFile)).FpMethods
	a := (*walVFSApp)(ptr(methods - unsafe.Offsetof(walVFSApp{}.methods)))
	return (*walFile)(ptr(pFile + uintptr(a.stateAt)))
}

func origMethods(s *walFile) *sqlite3.Tsqlite3_io_methods {
	return (*sqlite3.Tsqlite3_io_methods)(ptr(s.orig))
}

// origWrite writes through the unix VFS.
func origWrite(tls *libc.TLS, s *walFile, pFile, buf uintptr, n int32, off int64) int32 {
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&origMethods(s).FxWrite)))(tls, pFile, buf, n, off)
}

// flush writes out what the buffer holds.
func flush(tls *libc.TLS, pFile uintptr, s *walFile) int32 {
	if s.n == 0 {
		return sqlite3.SQLITE_OK
	}
	n := s.n
	s.n, s.commit = 0, 0
	return origWrite(tls, s, pFile, s.buf, n, s.off)
}

func walWrite(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	s := stateOf(pFile)
	lastRead := s.lastRead
	s.lastRead = 0
	if s.n > 0 && iOfst == s.off+int64(s.n) && s.n+iAmt <= walBufferSize {
		// appended below
	} else {
		if rc := flush(tls, pFile, s); rc != sqlite3.SQLITE_OK {
			return rc
		}
		if iAmt != frameHeaderSize || lastRead != 0 {
			return origWrite(tls, s, pFile, zBuf, iAmt, iOfst)
		}
		if s.buf == 0 {
			if s.buf = sqlite3.Xsqlite3_malloc64(tls, walBufferSize); s.buf == 0 {
				return origWrite(tls, s, pFile, zBuf, iAmt, iOfst)
			}
		}
		s.off = iOfst
	}
	dst := unsafe.Slice((*byte)(ptr(s.buf)), walBufferSize)[s.n : s.n+iAmt]
	copy(dst, unsafe.Slice((*byte)(ptr(zBuf)), iAmt))
	s.n += iAmt
	if iAmt == frameHeaderSize {
		// Bytes 4-7 of a frame header: the database size in pages after a commit, 0 for
		// a frame that does not end a transaction.
		if binary.BigEndian.Uint32(dst[4:8]) != 0 {
			s.commit = 1
		} else {
			s.commit = 0
		}
		return sqlite3.SQLITE_OK
	}
	if s.commit != 0 {
		return flush(tls, pFile, s)
	}
	return sqlite3.SQLITE_OK
}

func walRead(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	s := stateOf(pFile)
	if rc := flush(tls, pFile, s); rc != sqlite3.SQLITE_OK {
		return rc
	}
	s.lastRead = 1
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&origMethods(s).FxRead)))(tls, pFile, zBuf, iAmt, iOfst)
}

func walClose(tls *libc.TLS, pFile uintptr) int32 {
	s := stateOf(pFile)
	rc := flush(tls, pFile, s)
	if s.buf != 0 {
		sqlite3.Xsqlite3_free(tls, s.buf)
		s.buf = 0
	}
	if rcClose := (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&origMethods(s).FxClose)))(tls, pFile); rc == sqlite3.SQLITE_OK {
		rc = rcClose
	}
	return rc
}

// The other methods write the buffer out, then do what the unix VFS does.

// flushed writes out what pFile's buffer holds and returns the unix VFS's methods.
func flushed(tls *libc.TLS, pFile uintptr) (*sqlite3.Tsqlite3_io_methods, int32) {
	s := stateOf(pFile)
	return origMethods(s), flush(tls, pFile, s)
}

func walTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	m, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&m.FxTruncate)))(tls, pFile, size)
}

func walSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	m, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxSync)))(tls, pFile, flags)
}

func walFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	m, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&m.FxFileSize)))(tls, pFile, pSize)
}

func walLock(tls *libc.TLS, pFile uintptr, lock int32) int32 {
	m, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxLock)))(tls, pFile, lock)
}

func walUnlock(tls *libc.TLS, pFile uintptr, lock int32) int32 {
	m, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxUnlock)))(tls, pFile, lock)
}

func walCheckReservedLock(tls *libc.TLS, pFile, pResOut uintptr) int32 {
	m, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&m.FxCheckReservedLock)))(tls, pFile, pResOut)
}

func walFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	m, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&m.FxFileControl)))(tls, pFile, op, pArg)
}

func walSectorSize(tls *libc.TLS, pFile uintptr) int32 {
	s := stateOf(pFile)
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&origMethods(s).FxSectorSize)))(tls, pFile)
}

func walDeviceCharacteristics(tls *libc.TLS, pFile uintptr) int32 {
	s := stateOf(pFile)
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&origMethods(s).FxDeviceCharacteristics)))(tls, pFile)
}

// ptr turns an address in SQLite's memory (never Go's heap) into a pointer, without the
// uintptr-to-unsafe.Pointer conversion go vet rightly flags for Go memory.
func ptr(p uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&p))
}

// cString copies s into SQLite's memory, NUL-terminated.
func cString(tls *libc.TLS, s string) uintptr {
	p := sqlite3.Xsqlite3_malloc64(tls, uint64(len(s)+1))
	if p == 0 {
		panic("sqlite: out of memory")
	}
	b := unsafe.Slice((*byte)(ptr(p)), len(s)+1)
	copy(b, s)
	b[len(s)] = 0
	return p
}
