ALTER TABLE `teams` ADD `default_deadline_ms` integer;--> statement-breakpoint
ALTER TABLE `usage` ADD `predicted_latency_ms` integer;--> statement-breakpoint
ALTER TABLE `usage` ADD `route_reason` text;