// A third of the model families, served end to end and compared with llama.cpp (see served-families.ts).
import { describeServedFamilies } from '../fixtures/served-families.js';

describeServedFamilies(2, 3);
