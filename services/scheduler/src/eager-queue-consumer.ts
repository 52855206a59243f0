import { Worker, type Job, type JobJson, type Processor, type WorkerOptions } from 'bullmq';

/**
 * A BullMQ Worker that tells `onTaken` about each job the moment the job is moved to active, before
 * BullMQ's main loop gets to processing it. That loop fetches waiting jobs one script call at a time
 * and starts processing the fetched ones only once the queue is drained (or the concurrency is
 * reached): under a burst of N requests the first one's processing waited for all N fetches. The
 * job is still processed (and completed, and its lock renewed) by BullMQ as usual; `onTaken` may
 * only start work that the processor then joins. Not called for jobs fetched while closing.
 */
export class EagerQueueConsumer<T> extends Worker<T> {
  private readonly onTaken: (job: Job<T>) => void;

  constructor(name: string, processor: Processor<T>, opts: WorkerOptions, onTaken: (job: Job<T>) => void) {
    // Not autorun: the loop must not fetch before onTaken is set (it is assigned after super()).
    super(name, processor, { ...opts, autorun: false });
    this.onTaken = onTaken;
    if (opts.autorun !== false) this.run().catch((err: Error) => this.emit('error', err));
  }

  protected override async nextJobFromJobData(jobData?: JobJson, jobId?: string, token?: string): Promise<Job<T>> {
    const job = await super.nextJobFromJobData(jobData, jobId, token);
    if (job && !this.closing) this.onTaken(job);
    return job;
  }
}
