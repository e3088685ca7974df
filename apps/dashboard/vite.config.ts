/**
 * Builds the trading screen into dist/ (served by the gateway at `/`). `npm run dev -w
 * @qx/dashboard` serves it with hot reload and proxies the API and Socket.IO to a gateway on
 * localhost:3001 (override with QX_GATEWAY).
 */
import { defineConfig, defaultClientConditions } from 'vite';
import react from '@vitejs/plugin-react';

const gateway = process.env['QX_GATEWAY'] ?? 'http://localhost:3001';

export default defineConfig({
  plugins: [react()],
  // workspace packages are read from their TypeScript sources, as the tests do
  resolve: { conditions: ['source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    rolldownOptions: {
      // the protocol package's modules only declare things: what the screen does not use (the
      // zod schemas the server validates with) is left out of the bundle
      treeshake: { moduleSideEffects: (id: string) => !/[\\/]packages[\\/]protocol[\\/]/.test(id) },
    },
  },
  server: {
    proxy: {
      '/api': gateway,
      '/socket.io': { target: gateway, ws: true },
    },
  },
});
