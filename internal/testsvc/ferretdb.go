// Package testsvc starts the real services tests run against (no mocks): FerretDB, the
// MongoDB-protocol server over SQLite that stands in for MongoDB.
package testsvc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// startTimeout bounds how long a FerretDB start may take before it counts as failed.
const startTimeout = 30 * time.Second

// Ferret is one FerretDB process with its own data directory and port. Stop and Start
// take the server down and bring it back on the same address with the same data, for
// outage tests.
type Ferret struct {
	bin  string
	dir  string // state and SQLite files
	port int
	// ownDir: dir was made by StartFerretDB and Close removes it.
	ownDir bool

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// FerretDB starts a FerretDB for the test with a data directory under t.TempDir() and
// stops it when the test ends. It fails the test if FerretDB cannot be built or started.
func FerretDB(t testing.TB) *Ferret {
	t.Helper()
	f, err := StartFerretDB(t.TempDir())
	if err != nil {
		t.Fatalf("testsvc: %v", err)
	}
	t.Cleanup(f.Close)
	return f
}

// StartFerretDB starts a FerretDB keeping its data in dir (a fresh temporary directory,
// removed by Close, when dir is empty). It is for TestMain, where there is no testing.TB;
// the caller must Close it.
func StartFerretDB(dir string) (*Ferret, error) {
	bin, err := FerretDBBinary()
	if err != nil {
		return nil, err
	}
	f := &Ferret{bin: bin, dir: dir}
	if dir == "" {
		if f.dir, err = os.MkdirTemp("", "ferretdb-"); err != nil {
			return nil, err
		}
		f.ownDir = true
	}
	// The free port is found by listening on :0 and closing; another process may take it
	// before FerretDB binds it, so a failed start is retried on a new port.
	for attempt := 1; ; attempt++ {
		if f.port, err = freePort(); err != nil {
			break
		}
		if err = f.Start(); err == nil {
			return f, nil
		}
		if attempt == 4 {
			break
		}
	}
	f.Close()
	return nil, err
}

// URI is the connection string of the server (no database in the path).
func (f *Ferret) URI() string { return fmt.Sprintf("mongodb://127.0.0.1:%d/", f.port) }

// Addr is the server's host:port.
func (f *Ferret) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(f.port)) }

// Start starts the server (again) on its port with its data directory, and returns once
// it answers a ping. Starting a running server is a no-op.
func (f *Ferret) Start() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cmd != nil {
		return nil
	}
	logPath := filepath.Join(f.dir, "ferretdb.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(f.bin,
		"--handler=sqlite",
		"--sqlite-url=file:"+f.dir+"/",
		"--listen-addr="+f.Addr(),
		"--telemetry=disable",
		"--debug-addr=-",
		"--state-dir="+f.dir,
		"--log-level=warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start ferretdb: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(done)
	}()
	if err := waitReady(f.URI(), done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("ferretdb on %s: %w\n%s", f.Addr(), err, tail(logPath, 2000))
	}
	f.cmd, f.done = cmd, done
	return nil
}

// Stop kills the server, as a crash or a lost host would, and waits until it has exited.
// Committed writes survive (SQLite's WAL); a graceful SIGTERM would only add FerretDB's
// 3 s connection drain to every outage test. Stopping a stopped server is a no-op.
func (f *Ferret) Stop() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cmd == nil {
		return nil
	}
	if err := f.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-f.done
	f.cmd, f.done = nil, nil
	return nil
}

// Close stops the server and removes its data directory if StartFerretDB made it.
func (f *Ferret) Close() {
	_ = f.Stop()
	if f.ownDir {
		_ = os.RemoveAll(f.dir)
	}
}

// waitReady pings uri until the server answers, the process exits, or startTimeout.
func waitReady(uri string, exited <-chan struct{}) error {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(250 * time.Millisecond))
	if err != nil {
		return err
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err = client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("process exited before answering a ping")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer to ping within %s: %w", startTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// FerretDBBinary returns the FerretDB binary: $FERRETDB_BIN if set, else the one
// scripts/ferretdb.sh builds once and caches (it returns at once when cached).
func FerretDBBinary() (string, error) {
	if bin := os.Getenv("FERRETDB_BIN"); bin != "" {
		return bin, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "ferretdb.sh"))
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/ferretdb.sh: %w\n%s", err, stderr.String())
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) == 0 {
		return "", errors.New("scripts/ferretdb.sh printed no binary path")
	}
	return lines[len(lines)-1], nil
}

// moduleRoot walks up from the working directory (a test runs in its package's
// directory) to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testsvc: no go.mod above the working directory")
		}
		dir = parent
	}
}
