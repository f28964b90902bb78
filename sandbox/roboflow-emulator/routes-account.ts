/** The API root: `GET /?api_key=…` answers which workspace the key belongs to, as Roboflow's does. */
import { route, type Route } from '../emulator-kit/router';
import type { EmulatorContext } from './context';

export function accountRoutes(ctx: EmulatorContext): Route[] {
  return [
    route('GET', '/', () => ({
      welcome: 'Welcome to the Roboflow API (local emulator).',
      instructions: 'You are successfully authenticated.',
      docs: 'https://docs.roboflow.com',
      workspace: ctx.options.workspace,
    })),
  ];
}
