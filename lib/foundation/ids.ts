/** Time-ordered UUIDv7 ids: sortable by creation, unique across processes and machines. */
import { v7 as uuidv7 } from 'uuid';

export const newId = (): string => uuidv7();
