/** Previous/next paging with the page size choice. */
import { useId } from 'react';
import { Button, Select } from './ui';

export function Pager({
  page,
  pages,
  total,
  perPage,
  sizes,
  onPage,
  onPerPage,
}: {
  page: number;
  pages: number;
  total: number;
  perPage: number;
  sizes: number[];
  onPage: (page: number) => void;
  onPerPage: (size: number) => void;
}) {
  const sizeId = useId();
  return (
    <div className="flex flex-wrap items-center justify-between gap-3 border-t border-zinc-200 px-4 py-2.5 text-sm dark:border-zinc-800">
      <span className="text-zinc-500 dark:text-zinc-400">
        {total} total · page {page} of {pages}
      </span>
      <div className="flex items-center gap-2">
        <label htmlFor={sizeId} className="text-xs text-zinc-500">
          Per page
        </label>
        <Select
          id={sizeId}
          className="w-20 py-1"
          value={perPage}
          onChange={(e) => onPerPage(Number(e.target.value))}
        >
          {sizes.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </Select>
        <Button size="sm" disabled={page <= 1} onClick={() => onPage(page - 1)}>
          Previous
        </Button>
        <Button size="sm" disabled={page >= pages} onClick={() => onPage(page + 1)}>
          Next
        </Button>
      </div>
    </div>
  );
}
