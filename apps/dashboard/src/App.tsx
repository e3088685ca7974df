/** Signed out: the sign-in card. Signed in: the trading screen (remounted per user). */
import { SignIn } from './components/SignIn.js';
import { TradingScreen } from './components/TradingScreen.js';
import { useSession } from './hooks/useSession.js';

export function App() {
  const { session, signInDemo, signInWithToken, signOut, signedOutReason, renew, authed } = useSession();
  if (!session) return <SignIn onDemo={signInDemo} onToken={signInWithToken} reason={signedOutReason} />;
  return <TradingScreen key={session.userId} session={session} renew={renew} authed={authed} onSignOut={signOut} />;
}
