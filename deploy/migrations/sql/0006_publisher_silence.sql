-- How long a publisher may stay quiet before it counts as silent (ops.publishers_silent and the
-- publisher-silent alert). NULL: the engine's default, IOC_STREAMS_SILENT_AFTER_SECONDS. A coverage
-- probe that reports every hour needs more than a payment counter that reports every minute.
ALTER TABLE publishers ADD COLUMN silent_after_seconds integer CHECK (silent_after_seconds > 0);
