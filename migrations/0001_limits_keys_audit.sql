CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`actor_key_id` text NOT NULL,
	`actor_role` text NOT NULL,
	`team_id` text,
	`action` text NOT NULL,
	`target` text,
	`details` text
);
--> statement-breakpoint
CREATE INDEX `audit_log_at_idx` ON `audit_log` (`at`);--> statement-breakpoint
CREATE INDEX `audit_log_team_idx` ON `audit_log` (`team_id`,`at`);--> statement-breakpoint
CREATE TABLE `budget_holds` (
	`id` text PRIMARY KEY NOT NULL,
	`budget_id` text NOT NULL,
	`period_start` integer NOT NULL,
	`amount_nano_usd` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `budget_holds_budget_idx` ON `budget_holds` (`budget_id`,`period_start`,`expires_at`);--> statement-breakpoint
CREATE TABLE `budget_spend` (
	`budget_id` text NOT NULL,
	`period_start` integer NOT NULL,
	`spent_nano_usd` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`budget_id`, `period_start`)
);
--> statement-breakpoint
CREATE TABLE `budgets` (
	`id` text PRIMARY KEY NOT NULL,
	`scope` text NOT NULL,
	`scope_id` text NOT NULL,
	`period` text NOT NULL,
	`time_zone` text DEFAULT 'UTC' NOT NULL,
	`limit_nano_usd` integer NOT NULL,
	`soft_limit_nano_usd` integer,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `budgets_scope_unique` ON `budgets` (`scope`,`scope_id`);--> statement-breakpoint
CREATE TABLE `rate_counters` (
	`bucket` text NOT NULL,
	`window_start` integer NOT NULL,
	`used` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`bucket`, `window_start`)
);
--> statement-breakpoint
CREATE TABLE `rate_limits` (
	`scope` text NOT NULL,
	`scope_id` text NOT NULL,
	`requests_per_minute` integer,
	`tokens_per_minute` integer,
	PRIMARY KEY(`scope`, `scope_id`)
);
--> statement-breakpoint
ALTER TABLE `api_keys` ADD `last_used_at` integer;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `allowed_models` text;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `allowed_backends` text;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `backend_mode` text;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `replaced_by` text;--> statement-breakpoint
ALTER TABLE `teams` ADD `on_hosted_budget_exhausted` text DEFAULT 'refuse' NOT NULL;