ALTER TABLE `teams` ADD `hosted_disabled_at` integer;--> statement-breakpoint
ALTER TABLE `teams` ADD `hosted_disabled_reason` text;