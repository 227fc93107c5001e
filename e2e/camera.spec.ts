import { expect, test } from './fixtures';

test('a frame captured from the (fake) camera gets a result, and closing releases the camera', async ({
  app,
  page,
}) => {
  // Keep a handle on every stream the page opens, to check that each is stopped later.
  await page.addInitScript(() => {
    const streams: MediaStream[] = [];
    (window as unknown as { openedStreams: MediaStream[] }).openedStreams = streams;
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await original(constraints);
      streams.push(stream);
      return stream;
    };
  });
  await app.pinBackend('wasm');
  await app.open();

  await page.getByRole('button', { name: 'Use camera' }).click();
  const video = page.getByLabel('Camera preview');
  await expect(video).toBeVisible();
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return v !== null && v.readyState >= 2 && v.videoWidth > 0;
  });
  const size = await video.evaluate((v: HTMLVideoElement) => `${v.videoWidth}×${v.videoHeight}`);
  await page.getByRole('button', { name: 'Capture' }).click();
  const result = await app.resultFor('camera photo');
  await expect(app.predictions()).toHaveCount(5);
  // The whole frame was captured, at the stream's own resolution (the fake device's test pattern).
  await expect(result.getByTestId('result-details')).toContainText(size);

  await page.getByRole('button', { name: 'Close camera' }).click();
  await expect(video).toHaveCount(0);
  const states = await page.evaluate(() =>
    (window as unknown as { openedStreams: MediaStream[] }).openedStreams.flatMap((s) =>
      s.getTracks().map((t) => t.readyState),
    ),
  );
  expect(states.length).toBeGreaterThan(0);
  expect(states.every((s) => s === 'ended')).toBe(true);
});
