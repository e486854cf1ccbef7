/**
 * Persistence for the model registry: rows of `models`, `model_files` and `model_tasks`
 * mapped to records, and the monotonic `models_version` counter.
 */

import type { RouterDatabase } from '../store/database.js';
import { sql } from '../store/kysely-runtime.js';
import type { ModelFilesTable, ModelsTable, ModelTasksTable } from '../store/schema.js';
import type { QuantLabel } from './quant.js';
import type { GgufPolicy } from './selection.js';
import type { ModelFileRecord, ModelRecord, ModelTaskRecord } from './types.js';

const VERSION_KEY = 'models_version';

export class ModelStore {
  constructor(private readonly db: RouterDatabase) {}

  async loadAll(): Promise<ModelRecord[]> {
    const models = await this.db.selectFrom('models').selectAll().orderBy('created_at').execute();
    const files = await this.db.selectFrom('model_files').selectAll().execute();
    const tasks = await this.db.selectFrom('model_tasks').selectAll().orderBy('created_at').execute();
    return models.map((row) => ({
      ...modelFromRow(row),
      files: files.filter((f) => f.model_id === row.id).map(fileFromRow),
      tasks: tasks.filter((t) => t.model_id === row.id).map(taskFromRow),
    }));
  }

  /** One model as the database holds it now; undefined once it is deleted. */
  async loadOne(id: string): Promise<ModelRecord | undefined> {
    const row = await this.db.selectFrom('models').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const files = await this.db.selectFrom('model_files').selectAll().where('model_id', '=', id).execute();
    const tasks = await this.db
      .selectFrom('model_tasks')
      .selectAll()
      .where('model_id', '=', id)
      .orderBy('created_at')
      .execute();
    return { ...modelFromRow(row), files: files.map(fileFromRow), tasks: tasks.map(taskFromRow) };
  }

  async readVersion(): Promise<number> {
    const row = await this.db
      .selectFrom('model_registry_state')
      .select('value')
      .where('key', '=', VERSION_KEY)
      .executeTakeFirst();
    return row ? Number(row.value) : 0;
  }

  /** Increments the version in the database (atomic across router replicas) and returns it. */
  async bumpVersion(): Promise<number> {
    const row = await this.db
      .insertInto('model_registry_state')
      .values({ key: VERSION_KEY, value: 1 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({ value: sql<number>`model_registry_state.value + 1` }),
      )
      .returning('value')
      .executeTakeFirstOrThrow();
    return Number(row.value);
  }

  /** Inserts a new model with its files and first task; false when the id is already taken. */
  async insertModel(record: ModelRecord): Promise<boolean> {
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.insertInto('models').values(modelToRow(record)).execute();
        for (const file of record.files) {
          await trx.insertInto('model_files').values(fileToRow(record.id, file)).execute();
        }
        for (const task of record.tasks)
          await trx.insertInto('model_tasks').values(taskToRow(task)).execute();
      });
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async updateModel(record: ModelRecord): Promise<void> {
    const { id, ...changes } = modelToRow(record);
    await this.db.updateTable('models').set(changes).where('id', '=', id).execute();
  }

  async upsertFile(modelId: string, file: ModelFileRecord): Promise<void> {
    const row = fileToRow(modelId, file);
    const { model_id: _m, name: _n, ...changes } = row;
    await this.db
      .insertInto('model_files')
      .values(row)
      .onConflict((oc) => oc.columns(['model_id', 'name']).doUpdateSet(changes))
      .execute();
  }

  async saveProgress(modelId: string, name: string, bytes: number): Promise<void> {
    await this.db
      .updateTable('model_files')
      .set({ bytes_downloaded: bytes })
      .where('model_id', '=', modelId)
      .where('name', '=', name)
      .execute();
  }

  async deleteFile(modelId: string, name: string): Promise<void> {
    await this.db
      .deleteFrom('model_files')
      .where('model_id', '=', modelId)
      .where('name', '=', name)
      .execute();
  }

  async upsertTask(task: ModelTaskRecord): Promise<void> {
    const row = taskToRow(task);
    const { id: _id, ...changes } = row;
    await this.db
      .insertInto('model_tasks')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(changes))
      .execute();
  }

  async deleteModel(id: string): Promise<boolean> {
    // Children first: foreign-key cascades are on in SQLite only when the pragma is set.
    await this.db.deleteFrom('model_tasks').where('model_id', '=', id).execute();
    await this.db.deleteFrom('model_files').where('model_id', '=', id).execute();
    const result = await this.db.deleteFrom('models').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    /UNIQUE constraint/.test(e?.message ?? '')
  );
}

const json = <T>(text: string, fallback: T): T => {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

function modelFromRow(row: ModelsTable): Omit<ModelRecord, 'files' | 'tasks'> {
  return {
    id: row.id,
    repo: row.repo,
    revision: row.revision,
    displayName: row.display_name,
    format: row.format,
    filename: row.filename,
    quantization: row.quantization as QuantLabel | null,
    ggufPolicy: row.gguf_policy as GgufPolicy | null,
    chatTemplate: row.chat_template,
    sizeBytes: Number(row.size_bytes),
    requiredMemoryBytes: Number(row.required_memory_bytes),
    servable: row.servable === 1,
    servableReason: row.servable_reason,
    capabilities: json(row.capabilities, ['chat', 'completion']),
    warnings: json(row.warnings, []),
    lifecycleStatus: row.lifecycle_status,
    error: row.error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    cachedAt: row.cached_at === null ? null : Number(row.cached_at),
  };
}

function modelToRow(record: ModelRecord): ModelsTable {
  return {
    id: record.id,
    repo: record.repo,
    revision: record.revision,
    display_name: record.displayName,
    format: record.format,
    filename: record.filename,
    quantization: record.quantization,
    gguf_policy: record.ggufPolicy,
    chat_template: record.chatTemplate,
    size_bytes: record.sizeBytes,
    required_memory_bytes: record.requiredMemoryBytes,
    servable: record.servable ? 1 : 0,
    servable_reason: record.servableReason,
    capabilities: JSON.stringify(record.capabilities),
    warnings: JSON.stringify(record.warnings),
    lifecycle_status: record.lifecycleStatus,
    error: record.error,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    cached_at: record.cachedAt,
  };
}

function fileFromRow(row: ModelFilesTable): ModelFileRecord {
  return {
    name: row.name,
    sourcePath: row.source_path,
    role: row.role,
    sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
    expectedSha256: row.expected_sha256,
    expectedGitSha1: row.expected_git_sha1,
    sha256: row.sha256,
    etag: row.etag,
    bytesDownloaded: Number(row.bytes_downloaded),
    status: row.status,
    priority: row.priority,
  };
}

function fileToRow(modelId: string, file: ModelFileRecord): ModelFilesTable {
  return {
    model_id: modelId,
    name: file.name,
    source_path: file.sourcePath,
    role: file.role,
    size_bytes: file.sizeBytes,
    expected_sha256: file.expectedSha256,
    expected_git_sha1: file.expectedGitSha1,
    sha256: file.sha256,
    etag: file.etag,
    bytes_downloaded: file.bytesDownloaded,
    status: file.status,
    priority: file.priority,
  };
}

function taskFromRow(row: ModelTasksTable): ModelTaskRecord {
  return {
    id: row.id,
    modelId: row.model_id,
    kind: row.kind,
    status: row.status,
    attempts: row.attempts,
    error: row.error,
    params: json(row.params, {}),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    startedAt: row.started_at === null ? null : Number(row.started_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}

function taskToRow(task: ModelTaskRecord): ModelTasksTable {
  return {
    id: task.id,
    model_id: task.modelId,
    kind: task.kind,
    status: task.status,
    attempts: task.attempts,
    error: task.error,
    params: JSON.stringify(task.params),
    created_at: task.createdAt,
    updated_at: task.updatedAt,
    started_at: task.startedAt,
    finished_at: task.finishedAt,
  };
}
