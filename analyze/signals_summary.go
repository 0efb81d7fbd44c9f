package analyze

import "github.com/surge-dev/surge/summary"

// recordedSignals returns the server signals s recorded (summary.Signals:
// the series that changed, in run and ID order), as the analysis reads
// them.
func recordedSignals(s *summary.Summary) []recorded {
	sigs := s.Signals()
	out := make([]recorded, 0, len(sigs))
	for _, g := range sigs {
		r := recorded{Series: g.Series, Points: make([]recPoint, len(g.Points))}
		if g.Run >= 0 && g.Run < len(s.Runs) {
			r.Start = s.Runs[g.Run].Start
		}
		for i, p := range g.Points {
			r.Points[i] = recPoint{At: p.At, Span: p.Span, V: p.V}
		}
		out = append(out, r)
	}
	return out
}
