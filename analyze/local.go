package analyze

import (
	"strings"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// Shortage says how a local resource of the generator (file descriptors,
// ports, kernel memory) kept requests from going out: the generator's
// failure, not the server's.
type Shortage struct {
	// NotSent counts the requests it kept from going out.
	NotSent int64 `json:"not_sent"`
	// Resource names what ran out ("file descriptors", "local ports").
	Resource string `json:"resource"`
	// Example is a recorded error of class result.ClassLocal.
	Example string `json:"example"`
	// Advice says what to change on the generator's side; the shortage
	// comes first, since the other signs of a limited generator may
	// follow from it.
	Advice string `json:"advice"`
}

// LocalShortage returns the shortage of a local resource among st's
// results; its NotSent is 0 when there was none.
func LocalShortage(st *summary.Stats) Shortage {
	sh := Shortage{NotSent: st.NotSentLocal}
	if sh.NotSent == 0 {
		return sh
	}
	for _, e := range st.Errors {
		if e.Class == result.ClassLocal {
			sh.Example = e.Error
			break
		}
	}
	switch e := sh.Example; {
	case strings.Contains(e, "too many open files"):
		sh.Resource = "file descriptors"
		sh.Advice = "raise the generator's limit (ulimit -n) or lower -connections"
	case strings.Contains(e, "cannot assign requested address"):
		sh.Resource = "local ports"
		sh.Advice = "keep connections alive, lower -connections, or widen net.ipv4.ip_local_port_range"
	case strings.Contains(e, "no buffer space") || strings.Contains(e, "cannot allocate memory") || strings.Contains(e, "no space left"):
		sh.Resource = "kernel memory"
		sh.Advice = "lower -connections"
	default:
		sh.Resource = "a local resource"
		sh.Advice = "lower -connections"
	}
	return sh
}
