package problem

import (
	"fmt"
	"strings"
)

// Severity says how bad a Problem is. Higher is worse, so severities compare with < and >.
type Severity int

const (
	// Info is worth knowing and needs no change.
	Info Severity = iota + 1
	// Warning should change, but nothing fails because of it.
	Warning
	// Error must change: the input is refused, the component will not start or is open to
	// attack.
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "unknown"
}

// ParseSeverity parses "error", "warning" or "info", in any case.
func ParseSeverity(s string) (Severity, error) {
	for _, v := range []Severity{Info, Warning, Error} {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("severity %q: want error, warning or info", s)
}

// MarshalText writes the severity's name: JSON and YAML show "error", not 3.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a name ParseSeverity accepts.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Problem is one thing wrong: where, what, and how to fix it.
type Problem struct {
	Severity Severity `json:"severity"`
	// Where is a field path ("nodes[1].addresses[0]"), a flag ("--cert-file") or a file
	// ("pki/apiserver.crt"); empty when the problem is with the input as a whole.
	Where string `json:"where"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Fix says what to do about it; empty when there is nothing better than the message.
	Fix string `json:"fix,omitempty"`
}

// Errorf is a Problem of severity Error.
func Errorf(where, fix, format string, a ...any) Problem {
	return Problem{Severity: Error, Where: where, Message: fmt.Sprintf(format, a...), Fix: fix}
}

// Warningf is a Problem of severity Warning.
func Warningf(where, fix, format string, a ...any) Problem {
	return Problem{Severity: Warning, Where: where, Message: fmt.Sprintf(format, a...), Fix: fix}
}

// String is "where: message; fix".
func (p Problem) String() string {
	s := p.Message
	if p.Where != "" {
		s = p.Where + ": " + s
	}
	if p.Fix != "" {
		s += "; " + p.Fix
	}
	return s
}

// List is every problem a check found.
type List []Problem

// Errors returns the problems of severity Error. A Problem whose severity was left unset counts
// as an error, so a forgotten severity never hides one.
func (l List) Errors() List {
	return l.filter(func(s Severity) bool { return s == Error || s == 0 })
}

// Warnings returns the problems of severity Warning.
func (l List) Warnings() List { return l.filter(func(s Severity) bool { return s == Warning }) }

func (l List) filter(keep func(Severity) bool) List {
	var out List
	for _, p := range l {
		if keep(p.Severity) {
			out = append(out, p)
		}
	}
	return out
}

// Err returns nil when the list has no error, else a *ListError holding every error (warnings
// are left out: print them with Warnings).
func (l List) Err() error {
	errs := l.Errors()
	if len(errs) == 0 {
		return nil
	}
	return &ListError{Problems: errs}
}

// ListError is every error a check found; its message lists each on its own line.
type ListError struct{ Problems List }

func (e *ListError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problem(s):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}
