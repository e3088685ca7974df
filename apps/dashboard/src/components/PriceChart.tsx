/**
 * Candlestick chart with volume of the selected commodity (TradingView's lightweight-charts):
 * history from `GET /api/v1/market/candles`, then each public trade (`market-trade`, via the
 * SDK) moves the last candle or opens the next; the trader's own fills are marked B/S.
 * The container carries what it draws (candle count, last close, marks) for tests and screen readers.
 */
import { useEffect, useRef, useState } from 'react';
import { CandlestickSeries, ColorType, HistogramSeries, createChart, createSeriesMarkers, type IChartApi, type ISeriesApi, type ISeriesMarkersPluginApi, type SeriesMarker, type Time, type UTCTimestamp } from 'lightweight-charts';
import type { CandleInterval, MarketTrade } from '@qx/protocol';
import { applyTradeToCandles, bucketStart, type CandleBar, type QuantEnergxClient } from '@qx/client';
import { fetchCandles } from '../api/endpoints.js';
import { describeError } from '../api/http.js';
import { decimalsOf, formatLots } from '../model/format.js';
import type { Commodity, Trade } from '../model/types.js';
import type { Authed } from '../hooks/useSession.js';
import { Panel } from './Panel.js';

/** The candles endpoint's intervals (protocol's CANDLE_INTERVALS; not imported: that module brings the zod schemas into the bundle). */
const CANDLE_INTERVALS: Readonly<Record<CandleInterval, number>> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 };
const INTERVALS = Object.keys(CANDLE_INTERVALS) as CandleInterval[];
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

export function PriceChart(props: { authed: Authed; client: QuantEnergxClient | null; commodity: Commodity | null; fills: readonly Trade[] }) {
  const [interval, setChartInterval] = useState<CandleInterval>('1m');
  const [error, setError] = useState<string | null>(null);
  const [drawn, setDrawn] = useState<Drawn>({ candles: 0, lastClose: null, lastTime: null, volume: 0, live: 0, interval: '1m' });
  const [marks, setMarks] = useState(0);
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
      timeScale: { borderColor: '#222a36', timeVisible: true, secondsVisible: false },
      crosshair: { mode: 0 },
    });
    const candles = api.addSeries(CandlestickSeries, { upColor: UP, downColor: DOWN, borderVisible: false, wickUpColor: UP, wickDownColor: DOWN });
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.28 } });
    const volume = api.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: 'volume', lastValueVisible: false, priceLineVisible: false });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.78, bottom: 0 } });
    const markers = createSeriesMarkers(candles, []);
    chart.current = { api, candles, volume, markers };
    return () => {
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
        c.api.timeScale().scrollToRealTime();
        show();
      },
      (err: unknown) => !stopped && setError(describeError(err)),
    );
    return () => {
      stopped = true;
      off?.();
    };
  }, [symbol, interval, authed, client]);

  // my fills, marked on their candle
  const fills = props.fills;
  useEffect(() => {
    const c = chart.current;
    if (!c || !symbol) return;
    const ms = CANDLE_INTERVALS[interval];
    const first = bars.current[0]?.time ?? Infinity;
    const size = props.commodity?.contractSize ?? 1;
    const mine: SeriesMarker<Time>[] = fills
      .filter((f) => f.commodity === symbol && Date.parse(f.executionTime) >= first)
      .map((f) => ({ time: toTime(bucketStart(Date.parse(f.executionTime), ms)), ms: Date.parse(f.executionTime), f }))
      .sort((a, b) => a.ms - b.ms)
      .map(({ time, f }) =>
        f.side === 'buy'
          ? { time, position: 'belowBar', color: '#60a5fa', shape: 'arrowUp', text: `B ${formatLots(f.quantity, size)}` }
          : { time, position: 'aboveBar', color: '#f59e0b', shape: 'arrowDown', text: `S ${formatLots(f.quantity, size)}` },
      );
    c.markers.setMarkers(mine);
    setMarks(mine.length);
  }, [fills, symbol, interval, drawn.candles, props.commodity?.contractSize]);

  return (
    <Panel
      title="Chart"
      area="chart"
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
      {error && <div className="error-line">Candles: {error}</div>}
      <div
        className="chart-box"
        ref={box}
        data-testid="chart-canvas"
        data-commodity={symbol ?? undefined}
        data-interval={drawn.interval}
        data-candles={drawn.candles}
        data-last-close={drawn.lastClose ?? undefined}
        data-last-time={drawn.lastTime ?? undefined}
        data-last-volume={drawn.volume}
        data-live-trades={drawn.live}
        data-fills={marks}
        aria-label={`${props.commodity?.name ?? ''} ${interval} candles`}
      />
    </Panel>
  );
}
