CREATE TABLE `backend_state` (
	`host` text PRIMARY KEY NOT NULL,
	`breaker_state` text NOT NULL,
	`open_until` integer DEFAULT 0 NOT NULL,
	`retry_after_until` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`updated_at` integer NOT NULL
);
