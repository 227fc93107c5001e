/** Injected by vite.config.ts: package version, plus a deployment's build id when given. */
declare const __APP_VERSION__: string;
