import { readingsTopicFrom } from "@weather/schema";
import { readConnectionSettings } from "@weather/service-kit";

// Skeleton: validates the configuration every worker shares; the worker itself lands in its issue.
const settings = readConnectionSettings(process.env);
console.log(
  JSON.stringify({ msg: "configuration valid", ...settings, readingsTopic: readingsTopicFrom(process.env) }),
);
