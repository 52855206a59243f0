// Part 2 of 5 of the llama.cpp differential test (llama-cpp-oracle.ts): the checks are split so each
// file stays well inside the test runner's per-file timeout.
import { oracleTests } from './testing/llama-cpp-oracle.js';

oracleTests(1, 5);
