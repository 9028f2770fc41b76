package testsvc

import "syscall"

// sysProcAttr makes the kernel kill the server if the test process dies first, so a
// crashed or killed test run leaves no FerretDB behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
