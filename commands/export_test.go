package commands

// CachedSessions returns how many sessions' states a holds, for tests of
// the cache's bound.
func CachedSessions(a *Accounts) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sessions)
}
