/** Entry point: theme before first paint, the query client, and the app shell. */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { applyTheme, storedTheme } from './lib/theme';
import './app.css';

applyTheme(storedTheme());

const client = new QueryClient({
  defaultOptions: {
    queries: {
      // 4xx answers are final (shown as messages); network blips are retried once.
      retry: (count, error) => count < 1 && !((error as { status?: number }).status ?? 0),
      refetchOnWindowFocus: true,
      staleTime: 1000,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
