"""The queue: RQ queues per destination, the drain job, the relay and the circuit breaker."""
