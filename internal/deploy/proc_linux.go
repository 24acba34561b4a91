package deploy

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
)

// procStat is what ast reads from /proc/PID/stat (proc(5)).
type procStat struct {
	state byte   // field 3: R, S, D, Z (zombie), X (dead), ...
	pgrp  int    // field 5
	start uint64 // field 22: start time in clock ticks since boot
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// Field 2, the command name in parentheses, may itself hold spaces and ")": the
	// fields that follow start after the last ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, errors.New("malformed /proc stat")
	}
	pgrp, err := strconv.Atoi(f[2])
	if err != nil {
		return procStat{}, err
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, err
	}
	return procStat{state: f[0][0], pgrp: pgrp, start: start}, nil
}

func (s procStat) alive() bool { return s.state != 'Z' && s.state != 'X' }

// processStart returns pid's start time in clock ticks since boot.
func processStart(pid int) (uint64, error) {
	s, err := readStat(pid)
	return s.start, err
}

// confirm reads pid, start time and process group of p.PID from one /proc/PID/stat and
// reports p's process group when the process is alive and its start time is the
// recorded one; a record without a start time (0) confirms nothing.
func confirm(p Process) (pgrp int, ok bool) {
	s, err := readStat(p.PID)
	if err != nil || !s.alive() || p.Start == 0 || s.start != p.Start {
		return 0, false
	}
	return s.pgrp, true
}

func running(p Process) bool {
	s, err := readStat(p.PID)
	if err != nil || !s.alive() {
		return false
	}
	return p.Start == 0 || s.start == p.Start
}

// groupRunning reports whether a live (not zombie) process is in process group pgid.
// While any member lives, the kernel does not hand pgid out as a new pid, so the group
// is the agent's.
func groupRunning(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, err := readStat(pid); err == nil && s.pgrp == pgid && s.alive() {
			return true
		}
	}
	return false
}
