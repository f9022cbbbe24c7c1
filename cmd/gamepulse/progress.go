package main

import (
	"fmt"
	"io"
	"os"
)

// progress prints a status line: rewritten in place on a terminal, one line
// per update otherwise (logs, CI).
type progress struct {
	w    io.Writer
	tty  bool
	used bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) line(s string) {
	p.used = true
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", s)
		return
	}
	fmt.Fprintln(p.w, s)
}

// clear erases the line from a terminal.
func (p *progress) clear() {
	if p.tty && p.used {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progress) done() {
	if p.tty && p.used {
		fmt.Fprintln(p.w)
	}
}
