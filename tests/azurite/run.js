// Starts Azurite with the arguments given and stops it when standard input closes, which happens
// when the test process that started it ends, even by a crash: no Azurite outlives its tests.
'use strict';
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
require('./node_modules/azurite/dist/src/azurite.js');
