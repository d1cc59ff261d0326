/// <reference types="vitest/config" />
import { defineConfig, loadEnv } from 'vite';
import react from '@vitejs/plugin-react';

// The server may run under a path prefix (`--base-href /sextant`): every
// URL in the built files is relative, and the server writes the prefix
// into index.html's <base href>, which the app reads for its API calls and
// routes. `npm run dev` proxies the API to a running `sextant server`
// (SEXTANT_SERVER, default http://127.0.0.1:8080).
export default defineConfig(({ mode }) => ({
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // The CSP forbids inline scripts and styles: never inline assets as
    // data: modules into the script, keep every asset a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      '/api': {
        target: loadEnv(mode, '.', 'SEXTANT_').SEXTANT_SERVER || 'http://127.0.0.1:8080',
        changeOrigin: true,
        secure: false,
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
}));
