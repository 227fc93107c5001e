import type { ManifestOptions } from 'vite-plugin-pwa';
import { SHARE_TARGET_PATH } from '../core/cache-policy';

/** The web app manifest: what makes the app installable, and a share target for photos. */
export const webManifest: Partial<ManifestOptions> = {
  id: '/',
  name: 'Field ID: offline animal identifier',
  short_name: 'Field ID',
  description:
    'Identify animals from photos entirely on your device, even with no network. Nothing leaves the phone unless you choose to send a correction.',
  lang: 'en',
  start_url: '/',
  scope: '/',
  display: 'standalone',
  orientation: 'any',
  background_color: '#fbfaf6',
  theme_color: '#1f5135',
  categories: ['education', 'utilities', 'photo'],
  icons: [
    { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
    { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
    {
      src: '/icons/icon-maskable-512.png',
      sizes: '512x512',
      type: 'image/png',
      purpose: 'maskable',
    },
  ],
  screenshots: [
    {
      src: '/screenshots/narrow.png',
      sizes: '540x1200',
      type: 'image/png',
      form_factor: 'narrow',
      label: 'A photo identified on a phone',
    },
    {
      src: '/screenshots/wide.png',
      sizes: '1280x800',
      type: 'image/png',
      form_factor: 'wide',
      label: 'A batch of survey photos with their species',
    },
  ],
  share_target: {
    action: SHARE_TARGET_PATH,
    method: 'POST',
    enctype: 'multipart/form-data',
    params: { files: [{ name: 'photos', accept: ['image/*'] }] },
  },
};
