"""Operations: the heartbeat that tells /healthz whether a worker and beat are alive."""
