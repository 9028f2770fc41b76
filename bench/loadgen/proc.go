package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// /proc sampling, as bench/lib.js does it: the server's CPU time at the edges of the
// measured window, its RSS, the machine's busy cores, and this process's own CPU time.

// procCPUTicks is utime+stime of pid in clock ticks. The fields after the ")" that ends
// the command name start at field 3 (state); utime is field 14 and stime field 15.
func procCPUTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	u, err1 := strconv.ParseInt(f[14-3], 10, 64)
	s, err2 := strconv.ParseInt(f[15-3], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return u + s, nil
}

// machineTicks is the whole machine's idle (idle+iowait) and total ticks (the first 8
// fields of the first line of /proc/stat), and the number of CPUs listed there (what
// Node's os.cpus() counts).
func machineTicks() (idle, total int64, ncpu int) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	lines := strings.Split(string(b), "\n")
	f := strings.Fields(lines[0])
	var v [8]int64
	for i := 1; i < len(f) && i <= 8; i++ {
		v[i-1], _ = strconv.ParseInt(f[i], 10, 64)
	}
	for _, x := range v {
		total += x
	}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "cpu") && len(l) > 3 && l[3] >= '0' && l[3] <= '9' {
			ncpu++
		}
	}
	return v[3] + v[4], total, ncpu
}

// procStatusKiB reads a field of /proc/<pid>/status in KiB (VmRSS, VmHWM).
func procStatusKiB(pid string, field string) (int64, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0, false
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// resetPeakRSS resets the peak RSS (VmHWM) of pid to its current RSS, so the peak read
// afterwards is the peak of what follows. Returns the peak before the reset (KiB), or
// nil if it could not be read or reset.
func resetPeakRSS(pid int, log logf) *int64 {
	before, ok := procStatusKiB(strconv.Itoa(pid), "VmHWM")
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		log("could not reset VmHWM of %d (%v); peak RSS includes setup", pid, err)
		return nil
	}
	if !ok {
		return nil
	}
	return &before
}

// selfCPU is this process's CPU time, all threads, user + system.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuWindow samples server CPU, machine CPU and this process's CPU between start and
// stop. pid 0 means no server to sample.
type cpuWindow struct {
	pid    int
	clkTck float64

	t0          time.Time
	srv0        int64
	idle0, tot0 int64
	self0       time.Duration
}

type windowResult struct {
	secs             float64
	serverCPUSec     *float64 // nil without a pid
	loadgenCPUCores  float64
	machineBusyCores *float64
	machineCores     int
}

func (w *cpuWindow) start() {
	if w.pid != 0 {
		w.srv0, _ = procCPUTicks(w.pid)
	}
	w.idle0, w.tot0, _ = machineTicks()
	w.self0 = selfCPU()
	w.t0 = time.Now()
}

func (w *cpuWindow) stop() windowResult {
	t1 := time.Now()
	var srv1 int64
	var srvErr error
	if w.pid != 0 {
		srv1, srvErr = procCPUTicks(w.pid)
	}
	idle1, tot1, ncpu := machineTicks()
	self := selfCPU() - w.self0
	r := windowResult{secs: t1.Sub(w.t0).Seconds(), machineCores: ncpu}
	r.loadgenCPUCores = self.Seconds() / r.secs
	if w.pid != 0 && srvErr == nil {
		v := float64(srv1-w.srv0) / w.clkTck
		r.serverCPUSec = &v
	}
	if d := tot1 - w.tot0; d > 0 {
		v := float64(d-(idle1-w.idle0)) / float64(d) * float64(ncpu)
		r.machineBusyCores = &v
	}
	return r
}

// cpuFigures are the window figures every scenario reports, rounded as bench/lib.js does;
// embedded in each scenario's output where lib.js spreads them.
type cpuFigures struct {
	MeasuredSec      *float64 `json:"measuredSec"`
	ServerCPUSec     *float64 `json:"serverCpuSec"`
	ServerCPUCores   *float64 `json:"serverCpuCores"`
	LoadgenCPUCores  *float64 `json:"loadgenCpuCores"`
	MachineBusyCores *float64 `json:"machineBusyCores"`
	MachineCores     int      `json:"machineCores"`
}

func (r windowResult) figures() cpuFigures {
	f := cpuFigures{
		MeasuredSec:     round(r.secs, 3),
		LoadgenCPUCores: round(r.loadgenCPUCores, 2),
		MachineCores:    r.machineCores,
	}
	if r.serverCPUSec != nil {
		f.ServerCPUSec = round(*r.serverCPUSec, 2)
		f.ServerCPUCores = round(*r.serverCPUSec/r.secs, 2)
	}
	if r.machineBusyCores != nil {
		f.MachineBusyCores = round(*r.machineBusyCores, 2)
	}
	return f
}

// perServerCPUSec is n per server CPU-second, nil without a (non-zero) server CPU time.
func (r windowResult) perServerCPUSec(n int64) *float64 {
	if r.serverCPUSec == nil || *r.serverCPUSec == 0 {
		return nil
	}
	return round(float64(n) / *r.serverCPUSec, 0)
}
