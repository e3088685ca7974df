/**
 * Sign in: a demo token for a chosen user id (demo gateways only), or a JWT from the identity
 * provider, pasted.
 */
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/http.js';
import { PREF, readPref } from '../hooks/prefs.js';
import { explainError } from '../model/messages.js';

export function SignIn(props: { onDemo: (userId: string) => Promise<void>; onToken: (token: string) => void; reason?: string | null }) {
  // this browser's last user, or nothing: a prefilled stranger's id would sign into their book
  const [userId, setUserId] = useState(() => readPref(PREF.lastUserId) ?? '');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [demoUnavailable, setDemoUnavailable] = useState(false);

  const demo = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    props
      .onDemo(userId.trim())
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) {
          setDemoUnavailable(true);
          setError('This gateway is not in demo mode: sign in with a JWT from your identity provider.');
        } else setError(explainError(err));
      })
      .finally(() => setBusy(false));
  };

  const paste = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      props.onToken(token);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <main className="signin">
      <div className="signin-card">
        <h1>
          <span className="brand-mark">QX</span> QuantEnergx Realtime
        </h1>
        <p className="muted">Live energy markets, orders and compliance.</p>
        {props.reason && (
          <div className="error signin-reason" role="alert" data-testid="signin-reason">
            Signed out by the server: {props.reason}
          </div>
        )}
        <form onSubmit={demo} className="signin-form" data-testid="demo-signin">
          <label>
            User id
            <input name="userId" value={userId} onChange={(e) => setUserId(e.target.value)} autoComplete="username" placeholder="your user id" required autoFocus={!userId} />
          </label>
          <button type="submit" className="btn-primary" disabled={busy || demoUnavailable || !userId.trim()}>
            {busy ? 'Signing in…' : 'Sign in (demo)'}
          </button>
        </form>
        <div className="divider">or</div>
        <form onSubmit={paste} className="signin-form" data-testid="jwt-signin">
          <label>
            JWT
            <textarea name="token" rows={3} value={token} onChange={(e) => setToken(e.target.value)} placeholder="eyJhbGciOi…" spellCheck={false} />
          </label>
          <button type="submit" className="btn-secondary" disabled={!token.trim()}>
            Use token
          </button>
        </form>
        {error && (
          <div className="error" role="alert">
            {error}
          </div>
        )}
      </div>
    </main>
  );
}
