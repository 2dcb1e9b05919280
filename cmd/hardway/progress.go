package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress draws one self-overwriting line on a terminal; it is silent when stderr is not one.
type progress struct {
	mu    sync.Mutex
	on    bool
	what  string
	last  time.Time
	drawn bool
	g     *globals
}

func newProgress(g *globals, what string) *progress {
	f, ok := g.stderr.(*os.File)
	return &progress{g: g, what: what, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) update(done, total int) {
	if !p.on || total < 20 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if done < total && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.drawn = true
	fmt.Fprintf(p.g.stderr, "\r%s: %d/%d", p.what, done, total)
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.g.stderr, "\r\033[K")
	}
}
