import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { startModel } from './services/inference';
import { startFeedback } from './feedback/feedback-service';
import { startPwa } from './services/pwa';
import { takeSharedPhotos } from './services/shared-photos';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

startPwa();
startFeedback();
void startModel().then(takeSharedPhotos);
