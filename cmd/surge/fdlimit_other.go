//go:build !unix

package main

// fdBudget cannot count descriptors on this system.
func fdBudget() (fdCount, bool) { return fdCount{}, false }
