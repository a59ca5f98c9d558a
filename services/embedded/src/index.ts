export * from "./embedded-system.ts";
export * from "./synthetic-traffic.ts";
export * from "./dev-keys.ts";
