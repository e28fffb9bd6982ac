CREATE TABLE `connection_pulls` (
	`connection_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`last_pull_at` integer,
	`last_result` text,
	`last_duration_ms` integer,
	`last_change_at` integer,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`next_pull_at` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`connection_id`) REFERENCES `channel_connections`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `sync_logs_tenant_time_idx` ON `sync_logs` (`tenant_id`,`triggered_at`);