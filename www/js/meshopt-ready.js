// meshopt-ready.js: loaded by model-viewer once, when its meshopt decoder
// location is set (processing.js); model-viewer then uses the decoder it
// bundles for EXT_meshopt_compression.  Nothing is needed here.
