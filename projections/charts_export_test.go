package projections

// NewChartsCaching returns a Charts whose cache holds at most capacity
// students, so that a test can make it miss.
func NewChartsCaching(log StreamReader, capacity int) *Charts {
	c := NewCharts(log)
	c.cache = newFoldCache(capacity)
	return c
}

// CachedCharts returns how many students c holds folded.
func CachedCharts(c *Charts) int { return c.cache.len() }
