// First, so that the components' own stylesheets come after the base one and win at equal specificity.
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { startFeedback } from './feedback/feedback-service';
import { startModel } from './inference/inference';
import { takeSharedPhotos } from './input/shared-photos';
import { startPwa } from './pwa/pwa';
import { App } from './shell/App';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

startPwa();
startFeedback();
void startModel().then(takeSharedPhotos);
