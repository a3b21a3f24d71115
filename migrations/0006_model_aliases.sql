CREATE TABLE `model_aliases` (
	`alias` text PRIMARY KEY NOT NULL,
	`local_model` text,
	`hosted_model` text,
	`updated_at` integer NOT NULL
);
