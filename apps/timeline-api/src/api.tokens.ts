/** Injection token of the API's `TimelineConfig`. */
export const TIMELINE_CONFIG = Symbol('timeline-api:config');
