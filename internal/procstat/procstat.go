// Package procstat reads what the benchmark commands measure of another
// process from Linux's /proc: its CPU time and its resident memory. It is
// shared by gamepulse loadtest (the gateway's CPU) and gamepulse-bench
// process and engines (the processors', a Spark server's JVM included).
package procstat

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times on Linux.
const clockTicks = 100

// CPUSeconds returns the user + system CPU time of process pid, in seconds.
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("procstat: CPU time of process %d: %w", pid, err)
	}
	return parseStat(string(b))
}

// parseStat reads utime and stime from a /proc/PID/stat line.
func parseStat(s string) (float64, error) {
	// The fields after the command name, which is in parentheses and may
	// hold spaces and parentheses itself.
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0, errors.New("procstat: unexpected /proc stat format")
	}
	fields := strings.Fields(s[i+2:])
	if len(fields) < 13 {
		return 0, errors.New("procstat: unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("procstat: unexpected /proc stat format: %w", err)
	}
	return (utime + stime) / clockTicks, nil
}

// RSSBytes returns the resident set size of process pid (VmRSS in
// /proc/PID/status), in bytes.
func RSSBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("procstat: resident memory of process %d: %w", pid, err)
	}
	return parseStatusRSS(string(b))
}

// parseStatusRSS reads the VmRSS line ("VmRSS:   123456 kB") of a
// /proc/PID/status file.
func parseStatusRSS(s string) (int64, error) {
	for line := range strings.Lines(s) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("procstat: unexpected VmRSS line %q", strings.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 || kb > math.MaxInt64/1024 {
			return 0, fmt.Errorf("procstat: unexpected VmRSS line %q", strings.TrimSpace(line))
		}
		return kb * 1024, nil
	}
	return 0, errors.New("procstat: no VmRSS in /proc status (a kernel thread or a zombie)")
}
