package projections

// WithAfterCommit returns cfg with a hook that runs after each event's
// transaction has committed and before its message is acked; an error it
// returns fails the delivery, as a crash before the ack would.
func WithAfterCommit(cfg Config, hook func(projection string, position uint64) error) Config {
	cfg.afterCommit = hook
	return cfg
}
