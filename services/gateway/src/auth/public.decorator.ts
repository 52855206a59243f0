import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'loom:public';

/** Routes that stay open when API keys are configured (probes and Prometheus must not need a key). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
