// The page loads uPlot with a classic script (vendor/uPlot.iife.min.js), which sets this global.
declare var uPlot: typeof import("uplot");
