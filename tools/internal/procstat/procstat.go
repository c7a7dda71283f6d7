// Package procstat reads what the bench reports about a process from Linux's
// /proc: CPU time consumed and resident memory. It also raises and checks
// the open-file limit the bench needs for many sockets.
package procstat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ClockTicks is the unit of utime and stime in /proc/PID/stat
// (sysconf(_SC_CLK_TCK)); Linux fixes it at 100 for user space on every
// architecture Go supports.
const ClockTicks = 100

// Sample is one reading of a process's counters.
type Sample struct {
	// CPU is user plus system CPU time (10 ms resolution).
	CPU time.Duration
	// RSS is the resident set size in bytes (VmRSS).
	RSS int64
}

// Read samples process pid. Use os.Getpid() for the calling process.
func Read(pid int) (Sample, error) {
	cpu, err := CPUTime(pid)
	if err != nil {
		return Sample{}, err
	}
	rss, err := RSS(pid)
	if err != nil {
		return Sample{}, err
	}
	return Sample{CPU: cpu, RSS: rss}, nil
}

// CPUTime returns utime+stime of process pid from /proc/PID/stat.
func CPUTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	return parseStat(raw)
}

// parseStat extracts utime+stime (fields 14 and 15) from the contents of
// /proc/PID/stat. The command name (field 2) is in parentheses and may hold
// spaces and parentheses, so fields are counted after its last ')'.
func parseStat(raw []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return 0, errors.New("parse /proc stat: no command name")
	}
	// After ") " come field 3 (state), 4, ...; utime is field 14.
	fields := strings.Fields(string(raw[end+1:]))
	const utimeIndex = 14 - 3
	if len(fields) <= utimeIndex+1 {
		return 0, fmt.Errorf("parse /proc stat: only %d fields after the command name", len(fields))
	}
	var ticks int64
	for _, f := range fields[utimeIndex : utimeIndex+2] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("parse /proc stat: CPU ticks %q", f)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / ClockTicks), nil
}

// RSS returns the resident set size of process pid in bytes, from VmRSS in
// /proc/PID/status.
func RSS(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	return parseStatusKB(raw, "VmRSS")
}

func parseStatusKB(raw []byte, key string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != key {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(value), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || unit != "kB" {
			return 0, fmt.Errorf("parse /proc status: %s %q", key, value)
		}
		return n * 1024, nil
	}
	return 0, fmt.Errorf("parse /proc status: no %s line (kernel thread or exited process?)", key)
}

// OpenFileLimit returns the open-file limit (soft) of process pid from
// /proc/PID/limits; 0 means unlimited.
func OpenFileLimit(pid int) (uint64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0, fmt.Errorf("read limits of process %d: %w", pid, err)
	}
	for line := range strings.Lines(string(raw)) {
		rest, ok := strings.CutPrefix(line, "Max open files")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			break
		}
		if fields[0] == "unlimited" {
			return 0, nil
		}
		return strconv.ParseUint(fields[0], 10, 64)
	}
	return 0, fmt.Errorf("no open-file limit in /proc/%d/limits", pid)
}

// RaiseOpenFileLimit raises this process's soft RLIMIT_NOFILE to the hard
// limit and returns the resulting soft limit. It returns an error wrapping
// ErrLimitTooLow when even the hard limit is below need.
func RaiseOpenFileLimit(need uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("get open-file limit: %w", err)
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			lim = raised
		}
	}
	if lim.Cur < need {
		return lim.Cur, fmt.Errorf("%w: %d open files needed, the limit is %d (hard limit %d); raise it with `ulimit -n` as root or in the service manager",
			ErrLimitTooLow, need, lim.Cur, lim.Max)
	}
	return lim.Cur, nil
}

// ErrLimitTooLow reports that a resource limit is too low for the run.
var ErrLimitTooLow = errors.New("limit too low")

// LocalPortRange returns the kernel's ephemeral port range, which bounds how
// many connections one source address can open to one server port.
func LocalPortRange() (lo, hi int, err error) {
	raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, fmt.Errorf("read ephemeral port range: %w", err)
	}
	fields := strings.Fields(string(raw))
	if len(fields) != 2 {
		return 0, 0, fmt.Errorf("parse ephemeral port range %q", raw)
	}
	lo, err1 := strconv.Atoi(fields[0])
	hi, err2 := strconv.Atoi(fields[1])
	if err1 != nil || err2 != nil || hi < lo {
		return 0, 0, fmt.Errorf("parse ephemeral port range %q", raw)
	}
	return lo, hi, nil
}
