//go:build race

package attack

// fastRace reports whether the race detector is on; it allocates.
const fastRace = true
