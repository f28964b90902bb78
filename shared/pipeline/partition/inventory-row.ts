/** One row of an inventory data file, in the fields a run reads (absent: the inventory has no such column). */
export interface InventoryRow {
  bucket?: string;
  key: string;
  isLatest?: boolean;
  isDeleteMarker?: boolean;
  size?: number;
  etag?: string;
  lastModified?: Date;
}

/**
 * Consecutive rows of one data file in batches, from row `skipRows` on (a partition resumed
 * mid-way): `first` is the index of the batch's first row, counted from 0 at the file's first row.
 */
export type RowBatches = AsyncGenerator<{ rows: InventoryRow[]; first: number }>;
