/**
 * Candlestick chart with volume of the selected commodity (TradingView's lightweight-charts),
 * named in its title: history from `GET /api/v1/market/candles`, then each public trade
 * (`market-trade`, via the SDK) moves the last candle or opens the next; the trader's own fills
 * are marked B/S, one mark per candle and side (the lots added up) so marks never stack off the
 * chart. A few candles are drawn wide and kept off the price axis (a right margin of
 * RIGHT_OFFSET bars, so the last time label is whole). While disconnected it says it is stale.
 * Loaded on its own (React.lazy): the library is not in the first bundle.
 * The container carries what it draws (candle count, last close, marks, geometry) for tests and
 * screen readers.
 */
import { useEffect, useRef, useState } from 'react';
import { CandlestickSeries, ColorType, HistogramSeries, createChart, createSeriesMarkers, type IChartApi, type ISeriesApi, type ISeriesMarkersPluginApi, type SeriesMarker, type Time, type UTCTimestamp } from 'lightweight-charts';
import type { CandleInterval, MarketTrade } from '@qx/protocol';
import { applyTradeToCandles, bucketStart, type CandleBar, type QuantEnergxClient } from '@qx/client';
import { fetchCandles } from '../api/endpoints.js';
import { decimalsOf, formatLots, formatTime } from '../model/format.js';
import { explainError } from '../model/messages.js';
import type { Commodity, Trade } from '../model/types.js';
import type { Authed } from '../hooks/useSession.js';
import { Panel } from './Panel.js';

/** The candles endpoint's intervals (protocol's CANDLE_INTERVALS; not imported: that module brings the zod schemas into the bundle). */
const CANDLE_INTERVALS: Readonly<Record<CandleInterval, number>> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 };
const INTERVALS = Object.keys(CANDLE_INTERVALS) as CandleInterval[];
/** bars of space between the last candle and the price axis */
const RIGHT_OFFSET = 3;
/** the widest a candle slot gets when there are few of them */
const MAX_BAR_SPACING = 24;
const UP = '#22c55e';
const DOWN = '#ef4444';

const toTime = (ms: number) => (ms / 1000) as UTCTimestamp;
const candleOf = (b: CandleBar) => ({ time: toTime(b.time), open: b.open, high: b.high, low: b.low, close: b.close });
const volumeOf = (b: CandleBar) => ({ time: toTime(b.time), value: b.volume, color: b.close >= b.open ? 'rgba(34,197,94,0.45)' : 'rgba(239,68,68,0.45)' });

interface Drawn {
  candles: number;
  lastClose: number | null;
  lastTime: number | null;
  volume: number;
  live: number;
  /** the interval these candles are of (the selected one may not be loaded yet) */
  interval: CandleInterval;
}

interface Geometry {
  /** width of the plot (without the price axis), px */
  width: number;
  barSpacing: number;
  /** x of the first and last candle, px from the plot's left */
  firstX: number | null;
  lastX: number | null;
}

export function PriceChart(props: {
  authed: Authed;
  client: QuantEnergxClient | null;
  commodity: Commodity | null;
  fills: readonly Trade[];
  live: boolean;
  staleSince: number | null;
  /** times the connection came back: the history is read again (trades missed meanwhile) */
  reconnects: number;
}) {
  const [interval, setChartInterval] = useState<CandleInterval>('1m');
  const [error, setError] = useState<string | null>(null);
  const [drawn, setDrawn] = useState<Drawn>({ candles: 0, lastClose: null, lastTime: null, volume: 0, live: 0, interval: '1m' });
  const [marks, setMarks] = useState({ fills: 0, markers: 0 });
  const [geometry, setGeometry] = useState<Geometry | null>(null);
  /** the history page was answered (or refused) for the candles shown */
  const [loaded, setLoaded] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<{ api: IChartApi; candles: ISeriesApi<'Candlestick'>; volume: ISeriesApi<'Histogram'>; markers: ISeriesMarkersPluginApi<Time> } | null>(null);
  const bars = useRef<CandleBar[]>([]);
  const symbol = props.commodity?.symbol ?? null;
  const tick = props.commodity?.tickSize ?? 0.01;
  const { authed, client } = props;

  // the chart itself, once
  useEffect(() => {
    if (!box.current) return;
    const api = createChart(box.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: '#11151c' }, textColor: '#7d8899', fontSize: 11, attributionLogo: false },
      grid: { vertLines: { color: '#1a212b' }, horzLines: { color: '#1a212b' } },
      rightPriceScale: { borderColor: '#222a36' },
      timeScale: { borderColor: '#222a36', timeVisible: true, secondsVisible: false, rightOffset: RIGHT_OFFSET, maxBarSpacing: MAX_BAR_SPACING },
      crosshair: { mode: 0 },
    });
    const candles = api.addSeries(CandlestickSeries, { upColor: UP, downColor: DOWN, borderVisible: false, wickUpColor: UP, wickDownColor: DOWN });
    // room above and below the candles for the B/S marks
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.14, bottom: 0.3 } });
    const volume = api.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: 'volume', lastValueVisible: false, priceLineVisible: false });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.78, bottom: 0 } });
    const markers = createSeriesMarkers(candles, [], { autoScale: true });
    chart.current = { api, candles, volume, markers };
    // where the candles are drawn, once the chart has laid them out (after each change of range or size)
    let frame = 0;
    const measure = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const ts = api.timeScale();
        const first = bars.current[0];
        const last = bars.current.at(-1);
        setGeometry({
          width: Math.round(ts.width()),
          barSpacing: Math.round(ts.options().barSpacing * 10) / 10,
          firstX: first ? Math.round(ts.timeToCoordinate(toTime(first.time)) ?? NaN) : null,
          lastX: last ? Math.round(ts.timeToCoordinate(toTime(last.time)) ?? NaN) : null,
        });
      });
    };
    api.timeScale().subscribeVisibleLogicalRangeChange(measure);
    api.timeScale().subscribeSizeChange(measure);
    return () => {
      cancelAnimationFrame(frame);
      api.timeScale().unsubscribeVisibleLogicalRangeChange(measure);
      api.timeScale().unsubscribeSizeChange(measure);
      chart.current = null;
      api.remove();
    };
  }, []);

  useEffect(() => {
    chart.current?.candles.applyOptions({ priceFormat: { type: 'price', precision: decimalsOf(tick), minMove: tick } });
  }, [tick]);

  // history, then the live tape; trades that arrive while the history loads are queued
  useEffect(() => {
    const c = chart.current;
    bars.current = [];
    c?.candles.setData([]);
    c?.volume.setData([]);
    setDrawn({ candles: 0, lastClose: null, lastTime: null, volume: 0, live: 0, interval });
    setError(null);
    setLoaded(false);
    if (!symbol || !c) return;
    const ms = CANDLE_INTERVALS[interval];
    let loaded = false;
    let live = 0;
    let queued: MarketTrade[] = [];
    let stopped = false;
    const show = () => {
      const last = bars.current.at(-1);
      setDrawn({ candles: bars.current.length, lastClose: last?.close ?? null, lastTime: last?.time ?? null, volume: last?.volume ?? 0, live, interval });
    };
    const apply = (trade: MarketTrade) => {
      const r = applyTradeToCandles(bars.current, trade, ms);
      if (!r.bar) return;
      bars.current = r.candles;
      live++;
      // the newest bar (moved or new) is a plain update; an older one held is a historical update
      const historical = r.bar.time < (r.candles.at(-1)?.time ?? 0);
      try {
        c.candles.update(candleOf(r.bar), historical);
        c.volume.update(volumeOf(r.bar), historical);
      } catch {
        // the chart refused the update: draw it all again from the candles held
        c.candles.setData(bars.current.map(candleOf));
        c.volume.setData(bars.current.map(volumeOf));
      }
    };
    const off = client?.on('market-trade', (trade) => {
      if (trade.commodity !== symbol) return;
      if (!loaded) queued.push(trade);
      else {
        apply(trade);
        show();
      }
    });
    authed((token) => fetchCandles(token, symbol, interval)).then(
      (page) => {
        if (stopped) return;
        bars.current = page.candles.map((k) => ({ time: Date.parse(k.time), open: k.open, high: k.high, low: k.low, close: k.close, volume: k.volume }));
        c.candles.setData(bars.current.map(candleOf));
        c.volume.setData(bars.current.map(volumeOf));
        loaded = true;
        const upTo = Date.parse(page.to);
        for (const trade of queued) if (Date.parse(trade.time) >= upTo) apply(trade);
        queued = [];
        fit(c.api, bars.current.length);
        show();
        setLoaded(true);
      },
      (err: unknown) => {
        if (stopped) return;
        setError(explainError(err));
        setLoaded(true);
      },
    );
    return () => {
      stopped = true;
      off?.();
    };
  }, [symbol, interval, authed, client, props.reconnects]);

  // my fills, marked on their candle
  const fills = props.fills;
  useEffect(() => {
    const c = chart.current;
    if (!c || !symbol) return;
    const ms = CANDLE_INTERVALS[interval];
    const first = bars.current[0]?.time ?? Infinity;
    const size = props.commodity?.contractSize ?? 1;
    // one mark per candle and side, the lots added up: several fills in a minute never stack off the chart
    const byCandle = new Map<string, { time: number; side: 'buy' | 'sell'; units: number; fills: number }>();
    let count = 0;
    for (const f of fills) {
      const at = Date.parse(f.executionTime);
      if (f.commodity !== symbol || at < first) continue;
      count++;
      const time = bucketStart(at, ms);
      const key = `${time}:${f.side}`;
      const m = byCandle.get(key) ?? { time, side: f.side, units: 0, fills: 0 };
      m.units += f.quantity;
      m.fills += 1;
      byCandle.set(key, m);
    }
    const mine: SeriesMarker<Time>[] = [...byCandle.values()]
      .sort((a, b) => a.time - b.time || a.side.localeCompare(b.side))
      .map((m) =>
        m.side === 'buy'
          ? { time: toTime(m.time), position: 'belowBar', color: '#60a5fa', shape: 'arrowUp', text: `B ${formatLots(m.units, size)}` }
          : { time: toTime(m.time), position: 'aboveBar', color: '#f59e0b', shape: 'arrowDown', text: `S ${formatLots(m.units, size)}` },
      );
    c.markers.setMarkers(mine);
    setMarks({ fills: count, markers: mine.length });
  }, [fills, symbol, interval, drawn.candles, props.commodity?.contractSize]);

  const stale = !props.live;
  return (
    <Panel
      title={props.commodity ? `Chart · ${props.commodity.name}` : 'Chart'}
      area="chart"
      stale={stale}
      extra={
        <div className="seg seg-intervals" role="group" aria-label="Interval">
          {INTERVALS.map((i) => (
            <button key={i} type="button" name={`interval-${i}`} className={`seg-btn ${interval === i ? 'on' : ''}`} aria-pressed={interval === i} onClick={() => setChartInterval(i)}>
              {i}
            </button>
          ))}
        </div>
      }
    >
      {error && <div className="error-line">Candles could not be loaded: {error}</div>}
      {stale && (
        <div className="chart-stale stale-tag" data-testid="chart-stale">
          stale: not connected{props.staleSince ? ` since ${formatTime(new Date(props.staleSince).toISOString())} UTC` : ''}
        </div>
      )}
      <div
        className="chart-box"
        ref={box}
        data-testid="chart-canvas"
        data-commodity={symbol ?? undefined}
        data-interval={drawn.interval}
        data-loaded={loaded}
        data-candles={drawn.candles}
        data-last-close={drawn.lastClose ?? undefined}
        data-last-time={drawn.lastTime ?? undefined}
        data-last-volume={drawn.volume}
        data-live-trades={drawn.live}
        data-fills={marks.fills}
        data-markers={marks.markers}
        data-plot-width={geometry?.width}
        data-bar-spacing={geometry?.barSpacing}
        data-first-x={geometry?.firstX ?? undefined}
        data-last-x={geometry?.lastX ?? undefined}
        data-stale={stale}
        aria-label={`${props.commodity?.name ?? ''} ${interval} candles`}
      />
    </Panel>
  );
}

/**
 * Candle width for `count` candles: wide enough to fill the plot when there are few (at most
 * MAX_BAR_SPACING), the library's 6 px when there are many; then the newest candle in view, with
 * RIGHT_OFFSET bars before the price axis.
 */
function fit(api: IChartApi, count: number): void {
  const ts = api.timeScale();
  const width = ts.width();
  if (width > 0 && count > 0) ts.applyOptions({ barSpacing: Math.max(6, Math.min(MAX_BAR_SPACING, width / (count + RIGHT_OFFSET))) });
  ts.scrollToRealTime();
}
