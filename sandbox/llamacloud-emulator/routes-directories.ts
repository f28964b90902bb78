/** Directory endpoints (`/api/v1/beta/directories…`): create/get/list, multipart upload, file listing. */
import type { EmulatorContext } from './context';
import { paginate } from './pagination';
import { route, type Route } from './router';
import { DirectoryCreate, parseOrUnprocessable } from './schemas';
import type { Directory, DirectoryFile } from './store';
import { receiveUpload } from './uploads';

const DIRS = '/api/v1/beta/directories';

export function directoryRoutes(ctx: EmulatorContext): Route[] {
  const pageSize = ctx.options.pageSize;
  return [
    route('POST', DIRS, (req) => {
      const body = parseOrUnprocessable(DirectoryCreate, req.body);
      const directory = ctx.store.createDirectory({
        name: body.name,
        description: body.description ?? null,
        type: body.type,
        connectorSubscriptionId: body.connector_subscription_id ?? null,
        systemMetadata: body.system_metadata ?? null,
      });
      return directoryView(ctx, directory);
    }),
    route('GET', DIRS, (req) => {
      const { name, type } = req.query;
      const all = [...ctx.store.directories.values()].filter((d) => (name === undefined || d.name === name) && (type === undefined || d.type === type));
      return paginate(all, req.query, pageSize, `directories:${name ?? ''}:${type ?? ''}`, (d) => directoryView(ctx, d));
    }),
    route('GET', `${DIRS}/:directoryId`, (req) => directoryView(ctx, ctx.store.getDirectory(req.params.directoryId!))),
    route(
      'POST',
      `${DIRS}/:directoryId/files/upload`,
      async (req) => {
        const directory = ctx.store.getDirectory(req.params.directoryId!);
        return fileView(ctx, await receiveUpload(ctx, directory, req));
      },
      'stream',
    ),
    route('GET', `${DIRS}/:directoryId/files`, (req) => {
      const directory = ctx.store.getDirectory(req.params.directoryId!);
      const filters = {
        unique_id: (f: DirectoryFile) => f.uniqueId,
        file_id: (f: DirectoryFile) => f.fileId,
        display_name: (f: DirectoryFile) => f.displayName,
        external_file_id: (f: DirectoryFile) => f.externalFileId,
      };
      const active = Object.entries(filters).filter(([key]) => req.query[key] !== undefined);
      const files = directory.files.filter((f) => active.every(([key, get]) => get(f) === req.query[key]));
      const scope = `files:${directory.id}:${active.map(([key]) => `${key}=${req.query[key]}`).join('&')}`;
      return paginate(files, req.query, pageSize, scope, (f) => fileView(ctx, f));
    }),
    route('GET', `${DIRS}/:directoryId/files/:fileId`, (req) => {
      const directory = ctx.store.getDirectory(req.params.directoryId!);
      return fileView(ctx, ctx.store.getFile(directory, req.params.fileId!));
    }),
  ];
}

function directoryView(ctx: EmulatorContext, d: Directory) {
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    type: d.type,
    project_id: ctx.options.projectId,
    connector_subscription_id: d.connectorSubscriptionId,
    system_metadata: d.systemMetadata,
    expires_at: d.expiresAt,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    deleted_at: null,
  };
}

function fileView(ctx: EmulatorContext, f: DirectoryFile) {
  return {
    id: f.id,
    directory_id: f.directoryId,
    display_name: f.displayName,
    project_id: ctx.options.projectId,
    unique_id: f.uniqueId,
    external_file_id: f.externalFileId,
    file_id: f.fileId,
    download_url: null,
    metadata: { ...f.metadata },
    created_at: f.createdAt,
    updated_at: f.updatedAt,
    deleted_at: null,
  };
}
